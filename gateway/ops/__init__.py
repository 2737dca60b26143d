"""Commands and processes around the gateway: the CLI, worker processes, seeding, audit verify and repair."""
