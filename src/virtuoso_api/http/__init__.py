"""HTTP plumbing shared by every route: the error envelope, request ids, dependencies."""
