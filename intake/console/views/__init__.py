"""The console's pages, one module per place an adviser, the lead, the admin or the
maintainer works."""
