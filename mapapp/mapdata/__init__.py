"""Where organisations are and how they are shown: the geocoder chain and its offline
gazetteer, the in-memory map index, the folium map shell, open-data exports."""
