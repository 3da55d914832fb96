"""Member360: a loyalty member's whole history through GraphQL."""
