"""Named checks tying theory to constructions, trained models, tables, plots and the report."""
