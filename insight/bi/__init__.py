"""BI consumption: the lake's gold/silver tables in a catalog that the Spark Thrift Server
serves over JDBC/ODBC (infra/bi/thrift-server.sh)."""
