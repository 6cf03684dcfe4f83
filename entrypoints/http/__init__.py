"""The Flask app: blueprints, schemas and the error shape."""
