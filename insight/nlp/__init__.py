"""NLP on customer text: Spark NLP pipelines and the models they load."""
