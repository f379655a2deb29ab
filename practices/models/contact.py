from django.db import models


class ContactMessage(models.Model):
    """A member's message relayed to a practice's contact; kept so editors can see what was sent."""

    page = models.ForeignKey(
        "practices.PracticePage", on_delete=models.CASCADE, related_name="contact_messages"
    )
    name = models.CharField(max_length=100)
    email = models.EmailField()
    message = models.TextField(max_length=3000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent = models.BooleanField(default=False, help_text="The e-mail was handed to the mail server.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "message to a publisher"

    def __str__(self):
        return f"{self.name} about {self.page.title}"
