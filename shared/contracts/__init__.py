"""Message contracts: the values written to and read from Kafka, as pydantic models."""
