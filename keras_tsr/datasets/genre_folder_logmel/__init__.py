"""genre_folder_logmel dataset."""
