urlpatterns: list = []  # filled in by the app
