from hullscan.cli.main import entrypoint

entrypoint()
