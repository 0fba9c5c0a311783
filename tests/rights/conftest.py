from web.conftest import cheap_password_hashing, runtime  # noqa: F401  (the same world as the portal's)
