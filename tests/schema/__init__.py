"""Both services fuzzed by schemathesis from their OpenAPI specs, as real processes."""
