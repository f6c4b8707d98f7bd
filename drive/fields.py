"""An encrypted secret stored across a group of model fields (ciphertext, iv, tag, key id).

`EncryptedSecret` is a descriptor placed on a model next to its binary columns: assigning a
string seals it under the current key with the row's associated data; reading it opens the
stored value or raises DecryptionError — it never hands back the stored bytes."""
from drive.crypto import Sealed, open_sealed, seal


class EncryptedSecret:
    def __init__(self, *, ciphertext_field, iv_field, tag_field, key_id_field, associated_data):
        self.ciphertext_field = ciphertext_field
        self.iv_field = iv_field
        self.tag_field = tag_field
        self.key_id_field = key_id_field
        # A function of the model instance, e.g. lambda connection: b"drive:%d" % connection.user_id.
        self.associated_data = associated_data

    def __set_name__(self, owner, name):
        self.name = name

    def is_set(self, instance) -> bool:
        return bool(getattr(instance, self.ciphertext_field))

    def sealed(self, instance) -> Sealed:
        return Sealed(
            ciphertext=bytes(getattr(instance, self.ciphertext_field) or b""),
            iv=bytes(getattr(instance, self.iv_field) or b""),
            tag=bytes(getattr(instance, self.tag_field) or b""),
            key_id=getattr(instance, self.key_id_field),
        )

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        if not self.is_set(instance):
            return None
        return open_sealed(self.sealed(instance), associated_data=self.associated_data(instance))

    def __set__(self, instance, value):
        if value is None:
            sealed = Sealed(ciphertext=b"", iv=b"", tag=b"", key_id="")
        else:
            sealed = seal(value, associated_data=self.associated_data(instance))
        setattr(instance, self.ciphertext_field, sealed.ciphertext)
        setattr(instance, self.iv_field, sealed.iv)
        setattr(instance, self.tag_field, sealed.tag)
        setattr(instance, self.key_id_field, sealed.key_id)

    @property
    def column_names(self) -> list[str]:
        return [self.ciphertext_field, self.iv_field, self.tag_field, self.key_id_field]
