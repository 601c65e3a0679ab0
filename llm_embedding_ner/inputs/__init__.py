"""What the user gives: a text, a file or a dataset, checked and split into documents, with gold
tags in any scheme turned into IOB2. Imports nothing from the other folders."""
