"""What the user gets back: the Rerun recording (logging, documents, the default blueprint),
where it goes (a viewer, a file, never lost), the terminal report and the files asked for."""
