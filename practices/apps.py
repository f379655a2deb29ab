from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "practices"
    verbose_name = "Practices"

    def ready(self):
        from django.db.models.signals import post_save

        from wagtail import hooks

        from practices import document_text, downloads
        from practices.models import KBDocument

        post_save.connect(
            document_text.queue_extraction, sender=KBDocument, dispatch_uid="practices.queue_extraction"
        )
        hooks.register("before_serve_document", downloads.only_public_documents)

        from practices import audit, permissions, review

        permissions.connect_signals()
        audit.connect_signals()
        review.connect_signals()
