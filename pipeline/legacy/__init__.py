"""The legacy web app's world: users, registered documents, the activity ledger and Google Drive syncs."""
