"""Type stubs of rns_analyzer (the implementation is typed too; this is the public surface)."""

import os
from typing import Any, Dict, Iterable, List, Optional, Union

import numpy as np
import pandas as pd

from ._errors import InputError as InputError
from ._errors import NothingToAnalyseError as NothingToAnalyseError
from ._errors import RnsError as RnsError
from ._errors import UsageError as UsageError

__version__: str
TABLES: tuple[str, ...]
PathLike = Union[str, os.PathLike[str]]

class Result:
    analysis: Dict[str, Any]
    responses: pd.DataFrame
    trains: pd.DataFrame
    flags: pd.DataFrame
    findings: pd.DataFrame
    traces: List[Dict[str, Any]]
    @property
    def pattern(self) -> str: ...

class Simulation:
    samples_mv: np.ndarray
    sample_rate_hz: float
    truth: Dict[str, Any]
    written: Optional[str]

def analyze_file(path: PathLike, *, traces: bool = ..., label: Optional[str] = ..., **settings: Any) -> Result: ...
def analyze(path: PathLike, **settings: Any) -> Dict[str, Any]: ...
def responses(path: PathLike, **settings: Any) -> pd.DataFrame: ...
def trains(path: PathLike, **settings: Any) -> pd.DataFrame: ...
def flags(path: PathLike, **settings: Any) -> pd.DataFrame: ...
def findings(path: PathLike, **settings: Any) -> pd.DataFrame: ...
def traces(path: PathLike, **settings: Any) -> List[Dict[str, Any]]: ...
def simulate(**settings: Any) -> Simulation: ...
def find_inputs(folder: PathLike) -> List[str]: ...
def tables_of(results: Iterable[Result]) -> Dict[str, pd.DataFrame]: ...
