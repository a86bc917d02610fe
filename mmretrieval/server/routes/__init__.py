"""The API's routers: search, clips and media, jobs. ``server.app`` mounts them behind the
security dependencies each needs."""
