"""Import: map a plain transaction export onto the landing contract (`insight import`)."""
