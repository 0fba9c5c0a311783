from web.conftest import _cheap_passwords, rates  # noqa: F401  (the same world as the portal's)
