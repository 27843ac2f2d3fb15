"""Type stubs of the compiled core (``rns_analyzer._native``); use the package's functions."""

from typing import Any, Dict, List, Mapping, Optional, Tuple

def analyze(
    path: str,
    settings: Optional[Mapping[str, Any]] = ...,
    traces: bool = ...,
    label: Optional[str] = ...,
) -> Dict[str, Any]:
    """``{"json": str, "tables": {name: {"columns", "kinds", "data"}}, "traces"?: [...]}``."""

def simulate(settings: Optional[Mapping[str, Any]] = ...) -> Dict[str, Any]:
    """``{"samples_mv": ndarray[float32], "sample_rate_hz": float, "truth": str, "written": str | None}``."""

def find_inputs(dir: str) -> Tuple[List[str], List[Tuple[str, str, int]]]: ...
def version() -> str: ...
