"""The admin form of pages that choose documents or images."""

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.permissions import policy_registry


def _kind(model):
    for kind, guarded in (("document", get_document_model()), ("image", get_image_model())):
        if issubclass(model, guarded):
            return kind, guarded
    return None, None


def _pks(value):
    """The chosen ids of a chooser field's value or initial (an object, an id, or several)."""
    if value is None or value == "":
        return set()
    items = value if isinstance(value, list | tuple | set | QuerySet) else [value]
    return {str(getattr(item, "pk", item)) for item in items}


class CollectionCheckedPageForm(WagtailAdminPageForm):
    """Refuses a document or image the editor may not choose.

    Wagtail's choosers offer only what the user may choose, but the form accepts any id, so a cluster
    editor could post another cluster's document or image. What the page already holds stays allowed,
    so a page carrying an older choice can still be edited."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        partners = self.fields.get("partner_clusters")
        if partners is not None and self.for_user is not None:
            from .admin_access import visible_pages

            # Other clusters as the public sees them; a partner already chosen stays, so it is not lost.
            chosen = [getattr(c, "pk", c) for c in self.initial.get("partner_clusters") or ()]
            offered = visible_pages(self.for_user, partners.queryset.model.objects.all())
            partners.queryset = partners.queryset.filter(
                pk__in=[*offered.values_list("pk", flat=True), *chosen]
            )

    def clean(self):
        cleaned_data = super().clean()
        user = self.for_user
        if user is not None and not (user.is_active and user.is_superuser):
            for form in self._forms():
                self._refuse_unchoosable(form, user)
        return cleaned_data

    def _forms(self):
        forms_to_check, pending = [], [self]
        while pending:
            form = pending.pop()
            forms_to_check.append(form)
            for formset in getattr(form, "formsets", {}).values():
                # Child forms are cleaned after the page form; clean them now to read their choices.
                for child in formset.forms:
                    if child.is_valid() and not child.cleaned_data.get("DELETE"):
                        pending.append(child)
        return forms_to_check

    def _chosen(self, form, name, value):
        """(kind, model, pks) for each document or image field, pks being the ones newly chosen."""
        field = form.fields.get(name)
        initial = form.initial.get(name)
        if isinstance(field, forms.ModelChoiceField):
            kind, model = _kind(field.queryset.model)
            if kind:
                yield kind, model, _pks(value) - _pks(initial)
            return
        try:
            model_field = form._meta.model._meta.get_field(name)
        except FieldDoesNotExist:
            return
        if not hasattr(model_field, "extract_references"):
            return
        # Rich text and stream fields: links to documents and embedded images.
        found = {}
        for model, pk, *_ in model_field.extract_references(value):
            kind, guarded = _kind(model)
            if kind:
                found.setdefault((kind, guarded), set()).add(str(pk))
        if found and initial:
            for model, pk, *_ in model_field.extract_references(initial):
                for key in found:
                    if issubclass(model, key[1]):
                        found[key].discard(str(pk))
        for (kind, guarded), pks in found.items():
            yield kind, guarded, pks

    def _refuse_unchoosable(self, form, user):
        for name, value in list(form.cleaned_data.items()):
            for kind, model, pks in self._chosen(form, name, value):
                pks = [pk for pk in pks if pk.isdigit()]
                if not pks:
                    continue
                policy = policy_registry.get_by_type(model)
                refused = sorted(
                    obj.pk
                    for obj in model._default_manager.filter(pk__in=pks).select_related("collection")
                    if not policy.user_has_permission_for_instance(user, "choose", obj)
                )
                if refused:
                    ids = ", ".join(str(pk) for pk in refused)
                    form.add_error(
                        name,
                        f"Choose a {kind} from your own collections: {kind} {ids} is not available to you, "
                        "so this field is back to its saved version.",
                    )
                    self._reset(form, name)

    @staticmethod
    def _reset(form, name):
        """Show the saved value again: the redisplayed chooser would show the refused file's title."""
        field = form.fields[name]
        value = field.widget.format_value(form.get_initial_for_field(field, name))
        data = form.data.copy()
        data[form.add_prefix(name)] = "" if value is None else value
        form.data = data


class PresentationPageForm(CollectionCheckedPageForm):
    """A cluster's editors present for their own cluster only: the presenting cluster is required and
    offered from their clusters alone, so another cluster's id is refused as an invalid choice."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("presenting_cluster")
        if field is None or self.for_user is None:
            return
        from .page_policy import is_reviewer, own_clusters

        if is_reviewer(self.for_user):
            return
        clusters = own_clusters(self.for_user)
        # A plain list of their clusters, not the page chooser that browses every cluster.
        field.widget = forms.Select()
        field.queryset = clusters
        field.required = True
        field.empty_label = None
        field.help_text = "Your cluster presents it: its editors may edit it, as they do its practices."
        if self.initial.get("presenting_cluster") is None and len(clusters) == 1:
            self.initial["presenting_cluster"] = clusters[0].pk
        self.presents_for_own_cluster = True

    def clean(self):
        cleaned_data = super().clean()
        # Checked here, not by field.required, which Wagtail lifts when a draft is saved: a presentation
        # without a cluster would be no cluster's, and its own editors could not open it again.
        if getattr(self, "presents_for_own_cluster", False) and not cleaned_data.get("presenting_cluster"):
            if "presenting_cluster" not in self.errors:
                self.add_error("presenting_cluster", "Choose your cluster: it is the one presenting.")
        return cleaned_data
