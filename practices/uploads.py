"""Uploads: an oversize file is refused while it streams, an anonymous one is never written, and
whatever the storing handlers wrote is removed when the request ends, refused or not."""

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers, StopUpload
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


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SizeLimitUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: no file over KB_MAX_UPLOAD_BYTES is passed on to be stored.

    A request whose Content-Length already rules it out is read only up to its first file; an
    oversize file in a smaller request is read but discarded past the limit, and what the storing
    handlers had written of it is removed at once. No form takes a file from a visitor who is not
    signed in, so their files are never passed on at all.
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = settings.KB_MAX_UPLOAD_BYTES
        self.anonymous = not _signed_in(self.request)
        fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        if content_length <= (fields if self.anonymous else self.limit + fields) + FORM_OVERHEAD:
            return None
        stop = _StopAtFirstFile(self.request)
        post, files = MultiPartParser(META, input_data, [stop], encoding).parse()
        if hasattr(stop, "refused") and not self.anonymous:
            field_name, file_name = stop.refused
            files.appendlist(field_name, RefusedUpload(file_name, content_length))
        return post, files

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.anonymous:
            raise SkipFile  # read past, never stored
        self.refused = self.content_length is not None and self.content_length > self.limit
        if self.refused:
            raise StopFutureHandlers  # the storing handlers never open a file for it

    def receive_data_chunk(self, raw_data, start):
        if self.refused:
            return None
        if start + len(raw_data) > self.limit:
            self.refused = True
            discard_stored(self.request, keep=self)
            return None
        return raw_data

    def file_complete(self, file_size):
        if self.refused:
            return RefusedUpload(self.file_name, file_size, self.content_type)
        return None


def discard_stored(request, keep=None) -> None:
    """Close and delete what the storing handlers have written for this request."""
    for handler in request.__dict__.get("_upload_handlers", ()):
        if handler is not keep:
            handler.upload_interrupted()


class UploadCleanupMiddleware:
    """Whatever a request's upload handlers wrote is removed when its response is closed, even when
    parsing stopped half-way (too many fields, a refused file, an error) and nothing else holds it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Django closes these when the server has sent the response (the request's files too).
        response._resource_closers.append(lambda: discard_stored(request))
        return response
