"""Purchase and churn propensity: point-in-time training sets, Horovod-distributed Keras
models (Petastorm input, MLflow tracking), Spark MLlib baselines, batch scoring with
per-customer attributions, and customer embeddings from an autoencoder."""
