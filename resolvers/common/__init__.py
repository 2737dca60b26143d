"""What every domain's resolvers share: the request context and its objects, connections, the Node
interface, enums and input checks."""
