from django.db import models

from wagtail.documents.models import AbstractDocument, Document


class KBDocument(AbstractDocument):
    """A Wagtail document whose text is extracted, page by page or slide by slide, for search."""

    STATUS_PENDING = "pending"
    STATUS_EXTRACTED = "extracted"
    STATUS_FAILED = "failed"
    STATUS_CHOICES = [
        (STATUS_PENDING, "Waiting for extraction"),
        (STATUS_EXTRACTED, "Text extracted"),
        (STATUS_FAILED, "Text not extracted"),
    ]

    text_status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=STATUS_PENDING)
    text_error = models.TextField(blank=True, help_text="Why the text could not be extracted.")
    content_kind = models.CharField(max_length=10, blank=True, help_text="Type detected from the content.")
    page_count = models.PositiveIntegerField(null=True, blank=True)
    extracted_at = models.DateTimeField(null=True, blank=True)
    preview = models.ImageField(upload_to="document_previews", blank=True)

    admin_form_fields = Document.admin_form_fields

    class Meta(AbstractDocument.Meta):
        verbose_name = "document"
        verbose_name_plural = "documents"


class DocumentTextUnit(models.Model):
    """The text of one page (PDF, DOCX section) or slide (PPTX, ODP) of a document."""

    document = models.ForeignKey(KBDocument, on_delete=models.CASCADE, related_name="text_units")
    number = models.PositiveIntegerField()
    unit = models.CharField(max_length=5, choices=[("page", "page"), ("slide", "slide")])
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["document", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="unique_document_unit")]

    def __str__(self):
        return f"{self.unit.title()} {self.number} of {self.document.filename}"
