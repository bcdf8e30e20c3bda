"""Longhaul's Chalice application: it registers the blueprints and nothing else."""

from chalice.app import Chalice

from chalicelib.handlers import (
    billing,
    checkout,
    escrow,
    events,
    health,
    instagram,
    jobs,
    pages,
    request_context,
    scenarios,
    worker,
)

app = Chalice(app_name="longhaul")
app.register_blueprint(request_context.blueprint)
app.register_blueprint(health.blueprint)
app.register_blueprint(scenarios.blueprint)
app.register_blueprint(billing.blueprint)
app.register_blueprint(checkout.blueprint)
app.register_blueprint(events.blueprint)
app.register_blueprint(escrow.blueprint)
app.register_blueprint(jobs.blueprint)
app.register_blueprint(worker.blueprint)
app.register_blueprint(instagram.blueprint)
app.register_blueprint(pages.blueprint)
