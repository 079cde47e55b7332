"""Places: the gazetteer, place-name search, address files and the offline geocoders."""
