"""Importing good practices: format, readers, validation, bulk page creation, the importer."""
