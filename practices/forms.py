from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from wagtail.admin.forms.auth import LoginForm
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

    def _post_clean(self):
        # A refused file leaves the model's file empty, which the model's extension check would then
        # report as a second, wrong error ("File extension “” is not allowed"): say only what is wrong.
        refused = list(self._errors.get("file", ()))
        super()._post_clean()
        if refused:
            self._errors["file"] = self.error_class(refused)

    def save(self, commit=True):
        if "file" in self.changed_data:
            # A new file: its text is extracted again, after the upload is saved.
            self.instance.text_status = self.instance.STATUS_PENDING
            self.instance.text_error = ""
        return super().save(commit=commit)


class ContactForm(forms.Form):
    """A member's message to a practice's contact, whose address is never shown."""

    name = forms.CharField(label="Your name", max_length=100)
    email = forms.EmailField(
        label="Your e-mail address", max_length=254, help_text="The publisher replies to it."
    )
    message = forms.CharField(
        label="Message", min_length=10, max_length=3000, widget=forms.Textarea(attrs={"rows": 6})
    )
    # A field people never see: only robots fill it in.
    website = forms.CharField(label="Leave this empty", required=False)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Please give your name.")
        return name

    @property
    def is_robot(self) -> bool:
        return bool(self.data.get("website"))


class EmailLoginForm(LoginForm):
    """Wagtail's sign-in form, saying what the user name is: the e-mail address the account was made for."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.label = "E-mail address"
        field.widget.attrs.update(placeholder="you@your-cluster.org", autocomplete="username")
        field.help_text = (
            "Cluster editors sign in with their e-mail address (the local admin with its user name)."
        )

    def clean_username(self):
        # Accounts are named by e-mail address; people do not type its capitals the same way twice.
        username = self.cleaned_data["username"].strip()
        match = get_user_model().objects.filter(username__iexact=username).values_list("username", flat=True)
        return match[0] if len(match) == 1 else username
