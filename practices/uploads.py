"""An upload handler that refuses an oversize file while it streams, so it never lands on disk."""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http.multipartparser import MultiPartParser

# Multipart headers and boundaries around the form fields, beyond the fields' own size.
FORM_OVERHEAD = 64 * 1024


class RefusedUpload(UploadedFile):
    """Stands in for a file that was too large: its name and size, none of its content.

    The form then refuses it by its size, with the same message as any other oversize file.
    """

    def __init__(self, name, size, content_type=""):
        super().__init__(io.BytesIO(), name=name, content_type=content_type, size=size)


class _StopAtFirstFile(FileUploadHandler):
    def new_file(self, field_name, file_name, *args, **kwargs):
        self.refused = (field_name, file_name)
        raise StopUpload(connection_reset=True)


class SizeLimitUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: no file over KB_MAX_UPLOAD_BYTES is passed on to be stored.

    A request whose Content-Length already rules it out is read only up to its first file; an
    oversize file in a smaller request is read but discarded past the limit.
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = settings.KB_MAX_UPLOAD_BYTES
        fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        if content_length <= self.limit + fields + FORM_OVERHEAD:
            return None
        stop = _StopAtFirstFile(self.request)
        post, files = MultiPartParser(META, input_data, [stop], encoding).parse()
        if hasattr(stop, "refused"):
            field_name, file_name = stop.refused
            files.appendlist(field_name, RefusedUpload(file_name, content_length))
        return post, files

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.refused = self.content_length is not None and self.content_length > self.limit

    def receive_data_chunk(self, raw_data, start):
        if self.refused or start + len(raw_data) > self.limit:
            self.refused = True
            return None
        return raw_data

    def file_complete(self, file_size):
        if self.refused:
            return RefusedUpload(self.file_name, file_size, self.content_type)
        return None
