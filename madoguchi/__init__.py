"""madoguchi (窓口): an open-source digital ward office for Japanese municipalities."""
