"""C++ value types of RDataFrame expressions and the C++ conversion rules between them.

hepframe types every expression the way a C++ compiler would type the same RDataFrame
string, so that float32 arithmetic stays float32, integer division truncates and unsigned
arithmetic wraps, exactly as in ROOT.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np


class Scalar(Enum):
    """A C++ arithmetic type: (C++ spelling, numpy dtype, integer rank or 0 for floats)."""

    BOOL = ("bool", "bool", 1)
    CHAR = ("char", "int8", 2)
    UCHAR = ("unsigned char", "uint8", 2)
    SHORT = ("short", "int16", 3)
    USHORT = ("unsigned short", "uint16", 3)
    INT = ("int", "int32", 4)
    UINT = ("unsigned int", "uint32", 4)
    LONG = ("long", "int64", 5)
    ULONG = ("unsigned long", "uint64", 5)
    FLOAT = ("float", "float32", 0)
    DOUBLE = ("double", "float64", 0)
    STRING = ("const char*", "object", 0)
    # ROOT::Math Lorentz vectors (LorentzVector<Coordinates<double>>): values of C++ helper code
    # (hepframe.cpp), four doubles each; never columns.
    PTETAPHIM = ("ROOT::Math::PtEtaPhiMVector", "float64", -1)
    PTETAPHIE = ("ROOT::Math::PtEtaPhiEVector", "float64", -2)
    PXPYPZE = ("ROOT::Math::PxPyPzEVector", "float64", -3)
    PXPYPZM = ("ROOT::Math::PxPyPzMVector", "float64", -4)

    @property
    def cpp(self) -> str:
        return self.value[0]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.value[1])

    @property
    def rank(self) -> int:
        return self.value[2]

    @property
    def is_float(self) -> bool:
        return self in (Scalar.FLOAT, Scalar.DOUBLE)

    @property
    def is_integral(self) -> bool:
        return self.rank > 0

    @property
    def is_unsigned(self) -> bool:
        return self in (Scalar.BOOL, Scalar.UCHAR, Scalar.USHORT, Scalar.UINT, Scalar.ULONG)

    @property
    def is_arithmetic(self) -> bool:
        return self is not Scalar.STRING and self.rank >= 0

    @property
    def is_vector4(self) -> bool:
        """A ROOT::Math Lorentz vector (its rank is negative: it takes part in no arithmetic conversion)."""
        return self.rank < 0


_BY_DTYPE = {s.dtype: s for s in Scalar if s.is_arithmetic}


@dataclass(frozen=True)
class CType:
    """A C++ type: a scalar, ``RVec<scalar>`` (depth 1) or ``RVec<RVec<scalar>>`` (depth 2)."""

    scalar: Scalar
    depth: int = 0

    @property
    def is_rvec(self) -> bool:
        return self.depth > 0

    @property
    def element(self) -> CType:
        """The type of one element of an RVec."""
        return CType(self.scalar, self.depth - 1)

    def with_scalar(self, scalar: Scalar) -> CType:
        return CType(scalar, self.depth)

    def __str__(self) -> str:
        name = self.scalar.cpp
        for _ in range(self.depth):
            name = f"ROOT::VecOps::RVec<{name}>"
        return name

    @property
    def short(self) -> str:
        """Compact spelling for messages, e.g. ``RVec<float>``."""
        name = self.scalar.cpp
        for _ in range(self.depth):
            name = f"RVec<{name}>"
        return name

    @classmethod
    def from_dtype(cls, dtype: np.dtype | str, depth: int = 0) -> CType:
        dtype = np.dtype(dtype).newbyteorder("=")
        try:
            return cls(_BY_DTYPE[dtype], depth)
        except KeyError:
            raise TypeError(f"no C++ arithmetic type for numpy dtype {dtype}") from None


BOOL = CType(Scalar.BOOL)
INT = CType(Scalar.INT)
UINT = CType(Scalar.UINT)
LONG = CType(Scalar.LONG)
ULONG = CType(Scalar.ULONG)
FLOAT = CType(Scalar.FLOAT)
DOUBLE = CType(Scalar.DOUBLE)
STRING = CType(Scalar.STRING)
SIZE_T = ULONG


def integral_promotion(s: Scalar) -> Scalar:
    """C++ [conv.prom]: bool, char and short become int before arithmetic."""
    return Scalar.INT if s.is_integral and s.rank < Scalar.INT.rank else s


def common_scalar(a: Scalar, b: Scalar) -> Scalar:
    """C++ usual arithmetic conversions ([expr.arith.conv]) for two operand types."""
    if Scalar.DOUBLE in (a, b):
        return Scalar.DOUBLE
    if Scalar.FLOAT in (a, b):
        return Scalar.FLOAT
    a, b = integral_promotion(a), integral_promotion(b)
    if a == b:
        return a
    if a.is_unsigned == b.is_unsigned:
        return a if a.rank > b.rank else b
    unsigned, signed = (a, b) if a.is_unsigned else (b, a)
    if unsigned.rank >= signed.rank:
        return unsigned
    # A signed type of higher rank can represent every value of the unsigned type (LP64).
    return signed


# Spellings accepted in casts and constructors, including ROOT's typedefs.
TYPE_NAMES: dict[str, Scalar] = {
    "bool": Scalar.BOOL,
    "Bool_t": Scalar.BOOL,
    "char": Scalar.CHAR,
    "Char_t": Scalar.CHAR,
    "signed char": Scalar.CHAR,
    "unsigned char": Scalar.UCHAR,
    "UChar_t": Scalar.UCHAR,
    "short": Scalar.SHORT,
    "Short_t": Scalar.SHORT,
    "unsigned short": Scalar.USHORT,
    "UShort_t": Scalar.USHORT,
    "int": Scalar.INT,
    "Int_t": Scalar.INT,
    "int32_t": Scalar.INT,
    "std::int32_t": Scalar.INT,
    "unsigned": Scalar.UINT,
    "unsigned int": Scalar.UINT,
    "UInt_t": Scalar.UINT,
    "uint32_t": Scalar.UINT,
    "std::uint32_t": Scalar.UINT,
    "long": Scalar.LONG,
    "long long": Scalar.LONG,
    "Long64_t": Scalar.LONG,
    "Long_t": Scalar.LONG,
    "int64_t": Scalar.LONG,
    "std::int64_t": Scalar.LONG,
    "unsigned long": Scalar.ULONG,
    "unsigned long long": Scalar.ULONG,
    "ULong64_t": Scalar.ULONG,
    "ULong_t": Scalar.ULONG,
    "uint64_t": Scalar.ULONG,
    "std::uint64_t": Scalar.ULONG,
    "size_t": Scalar.ULONG,
    "std::size_t": Scalar.ULONG,
    "float": Scalar.FLOAT,
    "Float_t": Scalar.FLOAT,
    "double": Scalar.DOUBLE,
    "Double_t": Scalar.DOUBLE,
}


_TTREE_NAMES = {"bool": "Bool_t", "char": "Char_t", "unsigned char": "UChar_t", "short": "Short_t",
                "unsigned short": "UShort_t", "int": "Int_t", "unsigned int": "UInt_t", "long": "Long64_t",
                "unsigned long": "ULong64_t", "float": "Float_t", "double": "Double_t"}  # fmt: skip


def root_type_name(t: CType, dataset: bool = False) -> str:
    """A column type as ROOT names it.

    TTree branches get the leaf typedefs (``RVec<Float_t>``), other columns C++ names, with 64-bit
    integers as ROOT's ``Long64_t``/``ULong64_t``.
    """
    name = t.scalar.cpp
    name = _TTREE_NAMES.get(name, name) if dataset else {"long": "Long64_t", "unsigned long": "ULong64_t"}.get(name, name)
    for _ in range(t.depth):
        name = f"ROOT::VecOps::RVec<{name}>"
    return name
