"""Runs an area of the rules package on a case database through the engine (no report):
{detection id: [findings]}. Kept as a name the impact and compute tests share."""
from conftest import detect


def run_area(db_path, area, since=None, until=None):
    return detect(db_path, area, since, until)
