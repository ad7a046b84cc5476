"""The outbound side: Virtuoso's REST API (client, errors, models) and the step payload contract."""
