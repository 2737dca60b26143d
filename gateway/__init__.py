"""Deal Desk GraphQL gateway."""
