"""The publishing roles the admin tests share: two clusters, their groups and collections, the
moderators, an editor of each cluster, and a live and a draft practice in each."""

from types import SimpleNamespace

from django.contrib.auth.models import Group

from practices import permissions
from practices.factories import ClusterPageFactory, PracticePageFactory, UserFactory, make_site


def draft(cluster, **kwargs):
    page = PracticePageFactory(parent=cluster, live=False, **kwargs)
    page.save_revision()
    return page


def published(cluster, **kwargs):
    page = PracticePageFactory(parent=cluster, **kwargs)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def build_roles() -> SimpleNamespace:
    permissions.connect_signals()
    site = make_site()
    a = ClusterPageFactory(parent=site["clusters"], title="Cluj IT Cluster", slug="cluj")
    b = ClusterPageFactory(parent=site["clusters"], title="Vojvodina ICT Cluster", slug="vojvodina")
    for cluster in (a, b):
        cluster.save_revision().publish()
    permissions.setup_roles()
    moderators = Group.objects.get(name=permissions.MODERATORS)
    ns = SimpleNamespace(site=site, a=a, b=b, moderators=moderators)
    ns.group_a, ns.group_b = permissions.cluster_group(a), permissions.cluster_group(b)
    ns.coll_a, ns.coll_b = permissions.cluster_collection(a), permissions.cluster_collection(b)
    ns.admin = UserFactory(username="admin", superuser=True)
    ns.moderator = UserFactory(username="moderator", groups=[moderators])
    ns.editor_a = UserFactory(username="editor_a", groups=[ns.group_a])
    ns.editor_b = UserFactory(username="editor_b", groups=[ns.group_b])
    ns.a_live = published(a, title="Cluj live practice")
    ns.a_draft = draft(a, title="Cluj draft practice")
    ns.b_live = published(b, title="Vojvodina live practice")
    ns.b_draft = draft(b, title="Vojvodina secret draft")
    return ns
