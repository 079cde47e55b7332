"""The build pipeline: catalogue, source readers, repairs, validation, indicators, build and the published snapshot."""
