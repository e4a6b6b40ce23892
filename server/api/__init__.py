"""The HTTP layer: dependencies, errors, the router that mounts every domain's views."""
