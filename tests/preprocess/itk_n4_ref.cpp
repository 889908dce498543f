#include "itk_n4_ref.h"

#include <itkBSplineControlPointImageFilter.h>
#include <itkImage.h>
#include <itkMultiThreaderBase.h>
#include <itkN4BiasFieldCorrectionImageFilter.h>

#include <algorithm>
#include <cmath>

namespace vx_test {

void itk_n4(const float* src, int64_t nz, int64_t ny, int64_t nx, const double spacing[3], const uint8_t* mask,
            const ItkN4Params& params, std::vector<float>& corrected, std::vector<float>& bias_field) {
  using Image = itk::Image<float, 3>;
  using Mask = itk::Image<unsigned char, 3>;
  if (params.threads > 0) itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(params.threads);
  Image::SizeType size;
  size[0] = static_cast<itk::SizeValueType>(nx);
  size[1] = static_cast<itk::SizeValueType>(ny);
  size[2] = static_cast<itk::SizeValueType>(nz);
  Image::SpacingType sp;
  sp[0] = spacing[2];
  sp[1] = spacing[1];
  sp[2] = spacing[0];
  const size_t n = static_cast<size_t>(nz * ny * nx);
  auto image = Image::New();
  image->SetRegions(size);
  image->SetSpacing(sp);
  image->Allocate();
  std::copy(src, src + n, image->GetBufferPointer());

  using Filter = itk::N4BiasFieldCorrectionImageFilter<Image, Mask, Image>;
  auto filter = Filter::New();
  filter->SetInput(image);
  Mask::Pointer mask_image;
  if (mask) {
    mask_image = Mask::New();
    mask_image->SetRegions(size);
    mask_image->SetSpacing(sp);
    mask_image->Allocate();
    unsigned char* m = mask_image->GetBufferPointer();
    for (size_t i = 0; i < n; ++i) m[i] = mask[i] ? 1 : 0;
    filter->SetMaskImage(mask_image);
  }
  // What SimpleITK's N4 does with its defaults: levels = number of iteration counts.
  Filter::VariableSizeArrayType iters(static_cast<unsigned>(params.iterations.size()));
  for (size_t i = 0; i < params.iterations.size(); ++i) iters[static_cast<unsigned>(i)] = params.iterations[i];
  filter->SetMaximumNumberOfIterations(iters);
  filter->SetNumberOfFittingLevels(static_cast<unsigned>(params.iterations.size()));
  filter->SetNumberOfHistogramBins(static_cast<unsigned>(params.histogram_bins));
  filter->SetBiasFieldFullWidthAtHalfMaximum(static_cast<float>(params.bias_field_fwhm));
  filter->SetWienerFilterNoise(static_cast<float>(params.wiener_filter_noise));
  filter->SetConvergenceThreshold(static_cast<float>(params.convergence_threshold));
  filter->SetSplineOrder(3);
  Filter::ArrayType cps;
  cps.Fill(static_cast<unsigned>(params.control_points));
  filter->SetNumberOfControlPoints(cps);
  filter->Update();

  const float* out = filter->GetOutput()->GetBufferPointer();
  corrected.assign(out, out + n);

  using Lattice = Filter::BiasFieldControlPointLatticeType;
  using Scalar = Filter::ScalarImageType;
  auto recon = itk::BSplineControlPointImageFilter<Lattice, Scalar>::New();
  recon->SetInput(filter->GetLogBiasFieldControlPointLattice());
  recon->SetSplineOrder(3);
  recon->SetSize(size);
  recon->SetSpacing(sp);
  recon->SetOrigin(image->GetOrigin());
  recon->SetDirection(image->GetDirection());
  recon->Update();
  const auto* f = recon->GetOutput()->GetBufferPointer();
  bias_field.resize(n);
  for (size_t i = 0; i < n; ++i) bias_field[i] = std::exp(f[i][0]);
}

}  // namespace vx_test
