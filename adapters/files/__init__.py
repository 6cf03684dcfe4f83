"""File stores: a local directory and Cloudinary."""
