"""Pure commerce rules shared by the till and the server: no Qt, SQLAlchemy or httpx."""
