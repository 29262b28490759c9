"""Staff sign in as themselves: the staff apps as JupyterHub services, and the hub's configuration.

* ``service``: ``exam-builder hub-service grader|proctor`` runs a staff app (Voila, one notebook)
  as a hub-managed service: JupyterHub's OAuth signs the person in, the service's access scope
  (granted to a hub group through a role) decides who may open it, and the server puts the hub
  user's name into the page's kernel (``records.identity``). Nothing the page sends can change it.
* ``config``: ``configure(c)`` fills a ``jupyterhub_config.py`` from environment variables (the
  services, the groups and roles, the candidates' own host on the proxy, nbgrader's formgrader as
  the course's shared service); ``deploy/jupyterhub_config.py`` is two lines calling it.

Candidates never meet the hub: their app is ``exam-builder serve`` on a host name of its own,
routed by the same proxy (``Proxy.extra_routes``), so no hub page, cookie or token is on their
origin.
"""
