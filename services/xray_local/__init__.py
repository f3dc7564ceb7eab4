"""A local AWS X-Ray: the daemon's UDP intake, the X-Ray API, sampling and a live service map.

Run it with `python -m xray_local`; see docs/xray-local.md. Nothing here needs AWS.
"""

__version__ = "1.0.0"
__all__ = ["__version__"]
