from django import forms
from django.conf import settings

from wagtail.documents.forms import BaseDocumentForm

from practices.documents import UploadRejected, check_upload


class KBDocumentForm(BaseDocumentForm):
    """Wagtail's document form, refusing a file by its size first and then by its content, not its name."""

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if file and "file" in self.changed_data:
            try:
                kind = check_upload(file, max_bytes=settings.KB_MAX_UPLOAD_BYTES)
            except UploadRejected as e:
                raise forms.ValidationError(e.message, code="rejected") from None
            self.instance.content_kind = kind.name
        return file

    def save(self, commit=True):
        if "file" in self.changed_data:
            # A new file: its text is extracted again, after the upload is saved.
            self.instance.text_status = self.instance.STATUS_PENDING
            self.instance.text_error = ""
        return super().save(commit=commit)
