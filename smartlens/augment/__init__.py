"""Many realistic views from a few photos: camera simulation and training-data generation."""
