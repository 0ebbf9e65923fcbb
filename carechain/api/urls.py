from rest_framework.routers import SimpleRouter

from .views import CoachViewSet, PatientViewSet

router = SimpleRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("coaches", CoachViewSet, basename="coach")

urlpatterns = router.urls
