from django.urls import path

from . import views

urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice-list"),
    path("invoices/export.csv", views.invoice_export, name="invoice-export"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice-detail"),
    path("invoices/<int:pk>.pdf", views.invoice_pdf, name="invoice-pdf"),
    path("invoices/<int:pk>/<slug:action>/", views.invoice_action, name="invoice-action"),
    path("lines/<int:pk>/dispute/", views.invoice_line_dispute, name="invoice-line-dispute"),
    path("lines/<int:pk>/correct/", views.invoice_line_correct, name="invoice-line-correct"),
    path("exceptions/", views.exception_list, name="billing-exceptions"),
]
