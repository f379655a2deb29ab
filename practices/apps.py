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

        from wagtail.models import Page
        from wagtail.permissions import register_permission_policy

        from practices.page_policy import page_policy

        # Every page view of the admin asks this policy: presentations count as their cluster's pages.
        register_permission_policy(Page, page_policy)
