"""Dialogs of the Images/Volumes/Networks/Disk views, and their pure validation core."""
