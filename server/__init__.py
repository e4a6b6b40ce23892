"""StormCom companion server: multi-tenant schema, merchant API and sync endpoints."""
