"""PackedArrayField: a list of 32-bit numbers stored as one bytea.

A chunk's vectors wait in Postgres only until the outbox pushes them. Stored as float8[] they
cost 8 bytes a number, went out of line to TOAST, and reading a batch of them back meant
Postgres sending and the client parsing ~450 numbers a chunk one by one: the drain's largest
cost. Packed they cost 4 bytes a number (the embedder's float32, Qdrant's u32 sparse indices: no
precision is lost) and travel as one bytes value each way.

Values are big-endian (network order, as Postgres's own float4send/int4send write them), so SQL
can produce them too: `string_agg(float4send(x::real), ''::bytea)`.
"""
import array
import base64
import sys

from django.db import models

_NEEDS_BYTESWAP = sys.byteorder == "little"


class PackedArrayField(models.BinaryField):
    """A list of float32 (`typecode="f"`) or uint32 (`typecode="I"`) values in one bytea column.
    Python sees a list; NULL stays None."""

    TYPECODES = {"f": "float32", "I": "uint32"}

    def __init__(self, *args, typecode="f", **kwargs):
        if typecode not in self.TYPECODES:
            raise ValueError(f"PackedArrayField typecode must be one of {sorted(self.TYPECODES)}")
        self.typecode = typecode
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["typecode"] = self.typecode
        return name, path, args, kwargs

    def unpack(self, raw) -> array.array:
        """The packed values as an array.array; the outbox hands these to the engine binding,
        which reads them without a list of Python numbers being built first."""
        values = array.array(self.typecode, raw)
        if _NEEDS_BYTESWAP:
            values.byteswap()
        return values

    def pack(self, values) -> bytes:
        try:
            packed = array.array(self.typecode, values)
        except (TypeError, OverflowError) as exc:
            raise ValueError(f"{self.name}: expected a list of {self.TYPECODES[self.typecode]} values ({exc})") from exc
        if _NEEDS_BYTESWAP:
            packed.byteswap()
        return packed.tobytes()

    def from_db_value(self, value, expression, connection):
        return None if value is None else self.unpack(value).tolist()

    def to_python(self, value):
        if value is None or isinstance(value, list):
            return value
        if isinstance(value, str):  # serialized (dumpdata): base64 of the packed bytes
            value = base64.b64decode(value)
        return self.unpack(value).tolist()

    def get_prep_value(self, value):
        if value is None or isinstance(value, (bytes, memoryview)):
            return value
        return self.pack(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else base64.b64encode(self.pack(value)).decode("ascii")
